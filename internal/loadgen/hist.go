package loadgen

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 2^subBits buckets, so a recorded value is off by less than 1/128 (0.8 %).
const subBits = 7

// histBuckets covers values up to 2^40 µs (12 days) in 34 ranges of 128 buckets.
const histBuckets = (40 - subBits + 1) << subBits

// Histogram counts durations in log-linear buckets of microseconds (exact below
// 128 µs, within 0.8 % above). Record is safe from many goroutines and does not
// allocate; memory is fixed (~35 KiB) whatever the number of samples.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64 // µs, exact
}

func bucketOf(us uint64) int {
	if us < 1<<subBits {
		return int(us)
	}
	shift := bits.Len64(us) - subBits - 1 // ≥ 0
	i := (shift+1)<<subBits + int(us>>shift) - 1<<subBits
	return min(i, histBuckets-1)
}

// lowest returns the smallest value (µs) that falls into bucket i.
func lowest(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	shift := i>>subBits - 1
	return uint64(i&(1<<subBits-1)|1<<subBits) << shift
}

// Record adds one duration; negative durations count as 0.
func (h *Histogram) Record(d time.Duration) {
	us := max(d.Microseconds(), 0)
	h.counts[bucketOf(uint64(us))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			break
		}
	}
}

// Count returns the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest recorded duration (exact, to the microsecond).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the duration below which a fraction q (0..1) of the samples
// fall: the lower edge of the bucket holding the ⌈q·n⌉-th smallest sample, or 0
// without samples.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.999999)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(lowest(i)) * time.Microsecond
		}
	}
	return h.Max()
}
