package commerce

import (
	"context"
	"slices"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// CommerceTxRunner runs commerce transactions (store.Store has it).
type CommerceTxRunner interface {
	InCommerceTx(ctx context.Context, fn func(tx store.CommerceTx) error) error
}

// AppTx runs fn in one commerce transaction of st and, once it committed,
// calls changed (when set) once for each app fn wrote (UpdateApp,
// DeleteAppData: status, edition, plan, add-ons, expiry), so that the
// nodes' cached copies of those apps are read again and their devices end
// at once when the app no longer serves. A fn the store runs again (a retried
// transaction) counts its last run only; nothing is called when it fails.
func AppTx(ctx context.Context, st CommerceTxRunner, changed func(app int64), fn func(tx store.CommerceTx) error) error {
	if changed == nil {
		return st.InCommerceTx(ctx, fn)
	}
	var apps []int64
	err := st.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		apps = apps[:0]
		return fn(&appRecorder{CommerceTx: tx, apps: &apps})
	})
	if err != nil {
		return err
	}
	slices.Sort(apps)
	for _, id := range slices.Compact(apps) {
		changed(id)
	}
	return nil
}

// appRecorder notes the apps a transaction writes.
type appRecorder struct {
	store.CommerceTx
	apps *[]int64
}

func (r *appRecorder) UpdateApp(ctx context.Context, a store.App) error {
	err := r.CommerceTx.UpdateApp(ctx, a)
	if err == nil {
		*r.apps = append(*r.apps, a.SDKAppID)
	}
	return err
}

func (r *appRecorder) DeleteAppData(ctx context.Context, sdkappid int64, at time.Time) error {
	err := r.CommerceTx.DeleteAppData(ctx, sdkappid, at)
	if err == nil {
		*r.apps = append(*r.apps, sdkappid)
	}
	return err
}
