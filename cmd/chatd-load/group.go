package main

import (
	"context"
	"fmt"
	"time"

	"github.com/chatd/chatd/internal/loadgen"
)

// groupLoad sets up a group (or live room) of members, runs the fan-out load
// and prints the report as text, then as one JSON line.
// With several servers the members connect round-robin to them (the sender
// to the first).
func groupLoad(ctx context.Context, servers []string, token, name string, liveRoom bool, members int, cfg loadgen.GroupConfig, pid int) {
	if pid != 0 {
		cfg.Usage = usageOf(servers, func() int { return pid })
	} else {
		cfg.Usage = usageOf(servers, nil)
	}
	users, err := loadgen.SetupGroup(ctx, servers[0], token, name, members, liveRoom, nil, nil)
	if err != nil {
		fail("setup: %v", err)
	}
	users.Devices = servers
	start := time.Now()
	run, err := loadgen.ConnectGroup(ctx, users, cfg)
	if err != nil {
		fail("connect: %v", err)
	}
	took := time.Since(start)
	fmt.Printf("connected (and, in a live room, joined) %d members in %.1fs: %.0f members/s\n", members, took.Seconds(), float64(members)/took.Seconds())
	fmt.Printf("%d members online in %s; one sender at %.0f msg/s for %s + %s measured\n", members, users.Group, cfg.Rate, cfg.Warmup, cfg.Duration)
	rep, err := run.Run(ctx)
	run.Close()
	if err != nil {
		fail("%v", err)
	}
	fmt.Print(rep.Text())
	fmt.Println(rep.JSON())
}
