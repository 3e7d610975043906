package store

import "context"

// DailyCounts are additive usage counts of one app and one day: what a node
// counted since its last flush. Day is "2006-01-02" (the day of the recorder's
// time zone, UTC in chatd).
type DailyCounts struct {
	App       int64
	Day       string
	Logins    int64 // successful logins (LoginTimes)
	C2CMsgs   int64 // one-to-one messages sent (C2CUpMsgNum)
	GroupMsgs int64 // group messages sent (GroupUpMsgNum)
}

// DailyUser is a user active on Day in App.
type DailyUser struct {
	App  int64
	Day  string
	User string
}

// DailyUsage is one app's figures of one day.
type DailyUsage struct {
	Day         string
	ActiveUsers int64 // distinct users who logged in or sent that day
	Logins      int64
	C2CMsgs     int64
	GroupMsgs   int64
}

// Daily records per-app daily usage. Several nodes write at once: every write
// adds, none overwrites.
type Daily interface {
	// AddDaily adds counts and admits users (a user counts once per app and
	// day, whoever admits it and however often) in one transaction: all or
	// nothing. Atomic under concurrency, also across nodes.
	AddDaily(ctx context.Context, counts []DailyCounts, users []DailyUser) error
	// DailyUsage returns app's figures of the days from..to ("2006-01-02",
	// inclusive), ascending, only days with a record.
	DailyUsage(ctx context.Context, app int64, from, to string) ([]DailyUsage, error)
	// PurgeDailyBefore deletes every app's figures of the days before
	// figures and its recorded users of the days before users (only needed
	// while a day may still be admitted to), and returns how many rows.
	PurgeDailyBefore(ctx context.Context, figures, users string) (int64, error)
}
