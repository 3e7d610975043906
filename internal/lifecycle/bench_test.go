package lifecycle_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/tenant"
)

// BenchmarkMonthOfLifecycle measures the scheduler over one simulated month of an
// installation of 100 accounts with 10 apps each (half on Standard with
// auto-renewal, half on Free Trial): a bill per account, 7 reminders per app, the
// renewals and the trials' suspensions, on SQLite, notices recorded and "sent".
func BenchmarkMonthOfLifecycle(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := sqlite.Open(filepath.Join(b.TempDir(), "chatd.db"))
		if err != nil {
			b.Fatal(err)
		}
		clk := clock.NewManual(t0)
		ten := &tenant.Service{Store: st, Clock: clk}
		com := &commerce.Service{Store: st, Clock: clk}
		sch := lifecycle.New(lifecycle.Config{Store: st, Manual: clk, Sender: &recorder{}})
		for a := 0; a < 100; a++ {
			acc, err := ten.CreateAccount(ctx, fmt.Sprintf("acc %d", a), fmt.Sprintf("a%d@example.com", a), "+15550100")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := com.TopUp(ctx, commerce.TopUpRequest{AccountID: acc.ID, Cash: 1_000_000}); err != nil {
				b.Fatal(err)
			}
			for p := 0; p < 10; p++ {
				app, err := ten.CreateApp(ctx, acc.ID, fmt.Sprintf("app %d", p), "")
				if err != nil {
					b.Fatal(err)
				}
				if p%2 == 0 {
					if _, err := com.Buy(ctx, commerce.BuyRequest{SDKAppID: app.SDKAppID, Edition: "standard", Months: 1, AutoRenew: true, AgreementAccepted: true}); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		b.StartTimer()
		start := time.Now()
		rep, err := sch.Advance(ctx, 31*day)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rep.Jobs), "jobs/op")
		b.ReportMetric(float64(time.Since(start).Microseconds())/float64(rep.Jobs), "µs/job")
		st.Close()
	}
}
