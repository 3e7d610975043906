package catalog

import "fmt"

// Kinds of add-ons (product spec section 4).
const (
	KindPlugin     = "plugin"      // Push, Cloud Search: prepaid per SDKAppID by cycle, refundable
	KindValueAdded = "value-added" // Desk, AI Chatbot, Call: attached to one SDKAppID, not refundable
)

// How an add-on is sold.
const (
	SoldMonthly = "monthly" // price per unit per monthly period, bought for 1–24 months
	SoldPack    = "pack"    // a one-time pack per unit, whatever the months
	SoldFixed   = "fixed"   // a fixed validity (FixedDays), once per app
)

// Add-on ids.
const (
	Desk            = "desk"
	ChatbotStarter  = "chatbot_starter"
	ChatbotPremium  = "chatbot_premium"
	ChatbotMessages = "chatbot_messages"
	CallFree        = "call_free"
	Call1v1         = "call_1v1"
	CallGroup       = "call_group"
	Push            = "push"
	CloudSearch     = "cloud_search"
)

// Usage metrics that pay-as-you-go bills price. Later features meter them; a bill
// line exists only for usage that was recorded.
const (
	MetricMAU            = "mau"
	MetricPushCalls      = "push_all_user_calls"    // all-users/tag push interface calls, per day
	MetricPushMessages   = "push_all_user_messages" // all-users/tag push messages, per month
	MetricSearchStored   = "search_messages_stored" // messages newly made searchable, per month
	MetricSearchRequests = "search_requests"        // search requests, per month
	MetricCallMinutes    = "call_minutes"           // call minutes, per month
)

// Overage is the pay-as-you-go price of one metric beyond what a product includes:
// Free units per Per ("day" or "month") are included, and every further unit costs
// BlockPrice ÷ BlockSize, priced exactly and rounded once per bill line.
type Overage struct {
	Metric     string
	Per        string // "day" or "month"
	Free       int64
	BlockSize  int64
	BlockPrice int64 // micro-dollars per block
}

// Addon is one paid add-on with its price and inclusions.
type Addon struct {
	ID          string
	Name        string
	Kind        string
	Sold        string
	PriceCents  int64  // per unit: per month (SoldMonthly), per pack (SoldPack) or for the whole validity (SoldFixed)
	Unit        string // what Quantity counts: "bot", "pack", "seat", "subscription"
	MinQuantity int
	// IncludedUnits of Quantity come with the base price; each further unit costs
	// ExtraUnitCents a month (Desk: 3 seats included, 50 USD per extra seat).
	IncludedUnits  int
	ExtraUnitCents int64
	FixedDays      int // SoldFixed: the validity in days
	Includes       string
	Overage        []Overage
	Refundable     bool // plugins only (spec 5.5)
}

// addons is the add-on table of product spec section 4.
var addons = []Addon{
	{ID: Desk, Name: "Desk (customer service)", Kind: KindValueAdded, Sold: SoldMonthly, PriceCents: 29900,
		Unit: "seat", MinQuantity: 3, IncludedUnits: 3, ExtraUnitCents: 5000,
		Includes: "3 agent seats; workstation, routing of conversations to agents, shortcut replies, satisfaction rating"},
	{ID: ChatbotStarter, Name: "AI Chatbot, Starter", Kind: KindValueAdded, Sold: SoldMonthly, PriceCents: 20000,
		Unit: "bot", MinQuantity: 1, Includes: "FAQ answers, small talk, a large-language-model backend, a dashboard"},
	{ID: ChatbotPremium, Name: "AI Chatbot, Premium", Kind: KindValueAdded, Sold: SoldMonthly, PriceCents: 60000,
		Unit: "bot", MinQuantity: 1, Includes: "as Starter, more capacity"},
	{ID: ChatbotMessages, Name: "AI Chatbot message pack", Kind: KindValueAdded, Sold: SoldPack, PriceCents: 20000,
		Unit: "pack", MinQuantity: 1, Includes: "100,000 bot messages per pack"},
	{ID: CallFree, Name: "Call, free", Kind: KindValueAdded, Sold: SoldFixed, PriceCents: 0, FixedDays: 7,
		Unit: "subscription", MinQuantity: 1, Includes: "1-to-1 calls for 7 days; the service stops when used up"},
	{ID: Call1v1, Name: "Call, 1-to-1", Kind: KindValueAdded, Sold: SoldMonthly, PriceCents: 19900,
		Unit: "subscription", MinQuantity: 1, Includes: "1-to-1 calls, several devices; 10,000 call minutes a month",
		Overage: []Overage{{Metric: MetricCallMinutes, Per: "month", Free: 10_000, BlockSize: 1000, BlockPrice: 1_000_000}}},
	{ID: CallGroup, Name: "Call, group", Kind: KindValueAdded, Sold: SoldMonthly, PriceCents: 59900,
		Unit: "subscription", MinQuantity: 1, Includes: "group calls; 30,000 call minutes a month",
		Overage: []Overage{{Metric: MetricCallMinutes, Per: "month", Free: 30_000, BlockSize: 1000, BlockPrice: 1_000_000}}},
	{ID: Push, Name: "Push plugin", Kind: KindPlugin, Sold: SoldMonthly, PriceCents: 29900,
		Unit: "subscription", MinQuantity: 1, Refundable: true,
		Includes: "unlimited ordinary (offline) pushes; 100 free all-users/tag push interface calls a day; 30 million free all-users/tag push messages a month",
		Overage: []Overage{
			{Metric: MetricPushCalls, Per: "day", Free: 100, BlockSize: 1, BlockPrice: 10_000_000},
			{Metric: MetricPushMessages, Per: "month", Free: 30_000_000, BlockSize: 10_000, BlockPrice: 100_000},
		}},
	{ID: CloudSearch, Name: "Cloud Search plugin", Kind: KindPlugin, Sold: SoldMonthly, PriceCents: 39900,
		Unit: "subscription", MinQuantity: 1, Refundable: true,
		Includes: "1.5 million searchable messages stored and 300,000 search requests a month; search across all conversations, in one conversation, by user; OR/AND queries",
		Overage: []Overage{
			{Metric: MetricSearchStored, Per: "month", Free: 1_500_000, BlockSize: 30_000, BlockPrice: 4_000_000},
			{Metric: MetricSearchRequests, Per: "month", Free: 300_000, BlockSize: 10_000, BlockPrice: 4_000_000},
		}},
}

// Addons lists every add-on in catalog order.
func Addons() []Addon { return append([]Addon(nil), addons...) }

// LookupAddon returns the add-on with the given id.
func LookupAddon(id string) (Addon, error) {
	for _, a := range addons {
		if a.ID == id {
			return a, nil
		}
	}
	return Addon{}, fmt.Errorf("catalog: unknown add-on %q", id)
}

// MonthlyCents is the price of one monthly period for quantity units: the base
// price per unit, or for Desk the base price plus the seats beyond those included.
func (a Addon) MonthlyCents(quantity int) int64 {
	if a.IncludedUnits > 0 {
		extra := quantity - a.IncludedUnits
		if extra < 0 {
			extra = 0
		}
		return a.PriceCents + int64(extra)*a.ExtraUnitCents
	}
	return a.PriceCents * int64(quantity)
}
