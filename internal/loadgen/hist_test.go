package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueInOrder(t *testing.T) {
	prev := -1
	for _, us := range []uint64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 1<<20 + 1, 1<<39 + 12345} {
		i := bucketOf(us)
		if i < prev {
			t.Fatalf("bucket of %d is %d, before %d", us, i, prev)
		}
		prev = i
		lo := lowest(i)
		if lo > us || (us-lo)*128 > us {
			t.Fatalf("value %d in bucket %d starting at %d: off by more than 1/128", us, i, lo)
		}
		if i+1 < histBuckets && lowest(i+1) <= us {
			t.Fatalf("value %d should be in bucket %d (starts at %d)", us, i+1, lowest(i+1))
		}
	}
}

func TestQuantilesMatchASortedSample(t *testing.T) {
	var h Histogram
	r := rand.New(rand.NewPCG(1, 2))
	sample := make([]time.Duration, 100000)
	for i := range sample {
		// A long tail: mostly milliseconds, some seconds.
		d := time.Duration(r.ExpFloat64() * float64(3*time.Millisecond))
		if i%1000 == 0 {
			d += time.Duration(r.IntN(5)) * time.Second
		}
		sample[i] = d.Truncate(time.Microsecond)
		h.Record(sample[i])
	}
	slices.Sort(sample)
	if h.Count() != uint64(len(sample)) || h.Max() != sample[len(sample)-1] {
		t.Fatalf("count %d max %s, want %d %s", h.Count(), h.Max(), len(sample), sample[len(sample)-1])
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := sample[int(q*float64(len(sample)))-1]
		got := h.Quantile(q)
		if got > exact || float64(exact-got) > float64(exact)/128+float64(time.Microsecond) {
			t.Errorf("p%g: %s, exact %s", q*100, got, exact)
		}
	}
	var empty Histogram
	if empty.Quantile(0.99) != 0 || empty.Max() != 0 {
		t.Fatal("empty histogram reports samples")
	}
}
