package pebblestore

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"

	"github.com/chatd/chatd/internal/store"
)

// Legacy is one row of a SQL sync log, moved here by an upgrade.
type Legacy struct {
	store.Entry
	Unread bool // the row's unread flag (receiver copies)
}

// UpgradeState is what the engine recorded of the upgrade from SQLite.
type UpgradeState int64

const (
	// UpgradeNotDone: the copy has not completed (or never started).
	UpgradeNotDone UpgradeState = -2
	// UpgradeDone: the copy completed and the SQLite rows were deleted.
	UpgradeDone UpgradeState = -1
	// A state >= 0 means the copy completed, of the SQLite rows up to that
	// rowid, and their deletion from SQLite may not have.
)

// Upgraded returns the upgrade's state (SetUpgradeState).
func (s *Store) Upgraded() (UpgradeState, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	v, err := get(s.db, appKey(0, metaUpgraded))
	if err != nil || len(v) != 8 {
		return UpgradeNotDone, err
	}
	return UpgradeState(binary.BigEndian.Uint64(v)), nil
}

// SetUpgradeState records st durably.
func (s *Store) SetUpgradeState(st UpgradeState) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	return s.db.Set(appKey(0, metaUpgraded), binary.BigEndian.AppendUint64(nil, uint64(st)), pebble.Sync)
}

// BeginUpgrade removes every app's keys: what an interrupted upgrade wrote.
// The upgrade then starts over from the SQL rows, which it deletes only after
// recording that the copy completed.
func (s *Store) BeginUpgrade() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seqs, s.cachedSeqs = map[int64]map[string]int64{}, 0
	s.marksMu.Lock()
	s.marks = map[int64]purgeMarks{}
	s.marksMu.Unlock()
	lower := appKey(1, 0)[:8]
	upper := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	return s.db.DeleteRange(lower, upper, pebble.Sync)
}

// Import writes rows of SQL sync logs (one batch, not synced: SetUpgradeState
// syncs). Rows of one message (its sender's and its receiver's copy) must be
// adjacent; they become one message record keeping both Seqs.
func (s *Store) Import(rows []Legacy) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.newApplier()
	defer a.b.Close()
	for i := 0; i < len(rows); i++ {
		r := rows[i]
		if r.Kind != store.KindMsg {
			a.lastID++
			rf := ref{fam: famEvent, created: toMs(r.CreatedAt), id: a.lastID}
			if err := a.b.Set(rf.key(r.App), encodeEvent(&r.Entry), nil); err != nil {
				return err
			}
			if err := a.b.Set(appKey(r.App, famSync).str(r.Owner).u64(uint64(r.Seq)), syncVal(rf, 0), nil); err != nil {
				return err
			}
			continue
		}
		a.lastID++
		m := message{
			ref:  ref{fam: famMsg, created: toMs(r.CreatedAt), id: a.lastID},
			from: r.From, to: r.To, msgSeq: r.MsgSeq, msgRandom: r.MsgRandom, msgTime: r.MsgTime,
			msgKey: r.MsgKey, clientID: r.ClientID, body: r.Body, cloudCustomData: r.CloudCustomData,
			expires: toMs(r.ExpiresAt),
		}
		add := func(r Legacy) {
			if r.Recalled {
				m.flags |= msgRecalled
			}
			if r.Owner == r.From && m.flags&msgHasSender == 0 {
				m.flags |= msgHasSender
				m.senderSeq = r.Seq
			} else {
				m.flags |= msgHasReceiver
				m.receiverSeq = r.Seq
				if r.Unread {
					m.flags |= msgUnread
				}
			}
		}
		add(r)
		if i+1 < len(rows) && sameMessage(r, rows[i+1]) {
			i++
			add(rows[i])
		}
		if err := a.writeMessage(r.App, &m); err != nil {
			return err
		}
	}
	return a.commit(pebble.NoSync)
}

// sameMessage reports whether a and b are the two copies of one message.
func sameMessage(a, b Legacy) bool {
	return b.Kind == store.KindMsg && a.App == b.App && a.From == b.From && a.To == b.To &&
		a.From != a.To && a.Owner != b.Owner && a.MsgKey == b.MsgKey && a.MsgTime == b.MsgTime &&
		a.ClientID == b.ClientID && a.CreatedAt.Equal(b.CreatedAt) && string(a.Body) == string(b.Body)
}

// ImportSeq sets owner's last Seq and ImportRead a read position (upgrade only).
func (s *Store) ImportSeq(app int64, owner string, last int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	return s.db.Set(appKey(app, famSeq).str(owner), binary.BigEndian.AppendUint64(nil, uint64(last)), pebble.NoSync)
}

// ImportRead sets owner's read time of the conversation with peer (upgrade only).
func (s *Store) ImportRead(app int64, owner, peer string, readTime int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	return s.db.Set(appKey(app, famRead).str(owner).str(peer), binary.BigEndian.AppendUint64(nil, uint64(readTime)), pebble.NoSync)
}
