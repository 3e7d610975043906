package commerce_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/testdb"
)

// TestAccountsPageAs: the operator lists every account page by page, by ID;
// a customer is refused; a bad page size is invalid.
func TestAccountsPageAs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, at("2027-01-10 10:00"))
		var ids []string
		for range 5 {
			ids = append(ids, w.account("0", "0").ID)
		}
		op := tenant.Actor{Operator: true}
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			accs, more, err := w.com.AccountsPageAs(w.ctx, op, after, 2)
			if err != nil || len(accs) == 0 || len(accs) > 2 || pages > 2 {
				t.Fatalf("page %d after %q: %d accounts, %v", pages, after, len(accs), err)
			}
			for _, a := range accs {
				got = append(got, a.ID)
			}
			after = accs[len(accs)-1].ID
			if !more {
				break
			}
		}
		if len(got) != len(ids) {
			t.Fatalf("pages listed %v, want %d accounts", got, len(ids))
		}
		for i := 1; i < len(got); i++ {
			if got[i-1] >= got[i] {
				t.Fatalf("not by ID: %v", got)
			}
		}
		if accs, more, err := w.com.AccountsPageAs(w.ctx, op, got[len(got)-1], 2); err != nil || len(accs) != 0 || more {
			t.Fatalf("after the last: %v %v %v", accs, more, err)
		}
		for _, n := range []int{0, -1, commerce.MaxAccountsPage + 1} {
			if _, _, err := w.com.AccountsPageAs(w.ctx, op, "", n); !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("limit %d: %v", n, err)
			}
		}
		if _, _, err := w.com.AccountsPageAs(w.ctx, tenant.Actor{Account: ids[0]}, "", 2); !errors.Is(err, commerce.ErrOperatorOnly) {
			t.Fatalf("a customer lists accounts: %v", err)
		}
	})
}

// TestSetPromotionAs: only the operator sets an add-on's promotion.
func TestSetPromotionAs(t *testing.T) {
	w := newWorld(t, testdb.SQLite, at("2027-01-10 10:00"))
	acc := w.account("0", "0")
	until := at("2027-02-01 00:00")
	if _, err := w.com.SetPromotionAs(w.ctx, tenant.Actor{Account: acc.ID}, catalog.ChatbotMessages, until); !errors.Is(err, commerce.ErrOperatorOnly) {
		t.Fatalf("a customer sets a promotion: %v", err)
	}
	if ps, _ := w.com.Promotions(w.ctx); len(ps) != 0 {
		t.Fatalf("promotions after a refusal: %v", ps)
	}
	if _, err := w.com.SetPromotionAs(w.ctx, tenant.Actor{Operator: true}, catalog.ChatbotMessages, until); err != nil {
		t.Fatal(err)
	}
	if ps, _ := w.com.Promotions(w.ctx); !ps[catalog.ChatbotMessages].Equal(until) {
		t.Fatalf("promotions %v", ps)
	}
	if _, err := w.com.SetPromotionAs(w.ctx, tenant.Actor{Operator: true}, catalog.ChatbotMessages, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if ps, _ := w.com.Promotions(w.ctx); len(ps) != 0 {
		t.Fatalf("promotions after the end: %v", ps)
	}
}
