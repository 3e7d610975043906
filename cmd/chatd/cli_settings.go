package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/chatd/chatd/internal/operator"
)

// settingFlags collects repeated --set KEY=VALUE flags.
type settingFlags map[string]string

func (s settingFlags) String() string { return "" }

func (s settingFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	if _, dup := s[k]; dup {
		return fmt.Errorf("%s is set twice", k)
	}
	s[k] = val
	return nil
}

func printSettings(w io.Writer, s operator.Settings) {
	fmt.Fprintf(w, "App %d settings:\n", s.SDKAppID)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.Settings {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(w, "  %s = %s\n", k, s.Settings[k])
	}
}

// appSettings is `app settings show|set`: show prints every setting of an app,
// defaults included; set changes the given ones (all or none) and prints them all.
func (c *cli) appSettings(args []string) error {
	sub := ""
	if len(args) > 0 && (args[0] == "show" || args[0] == "set") {
		sub, args = args[0], args[1:]
	}
	fs := c.flagSet("app settings")
	id := c.sdkappidFlag(fs)
	set := settingFlags{}
	fs.Var(set, "set", "KEY=VALUE to set with 'set' (repeatable); known: friend_only_c2c=on|off")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if sub == "" {
		return usagef("app settings: say show or set first (chatd app settings show|set --sdkappid N ...)")
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	path := "/apps/" + strconv.FormatInt(*id, 10) + "/settings"
	if sub == "show" {
		if len(set) > 0 {
			return usagef("app settings show: --set belongs to 'app settings set'")
		}
		return callAndPrint(c, "GET", path, nil, nil, printSettings)
	}
	if len(set) == 0 {
		return usagef("app settings set: --set KEY=VALUE is required")
	}
	return callAndPrint(c, "PUT", path, nil, map[string]any{"settings": map[string]string(set)}, printSettings)
}
