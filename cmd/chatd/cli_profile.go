package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/chatd/chatd/internal/operator"
)

// appProfileFieldAdd declares a custom profile field of an app
// (POST /operator/v1/apps/{sdkappid}/profile-fields).
func (c *cli) appProfileFieldAdd(args []string) error {
	fs := c.flagSet("app profile-field add")
	id := c.sdkappidFlag(fs)
	name := fs.String("name", "", "the key after Tag_Profile_Custom_: 1 to 8 letters, digits or underscores (required)")
	typ := fs.String("type", "string", "string or integer")
	maxBytes := fs.Int("max-bytes", 0, "the longest string value, 1 to 500 (default 500; strings only)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if err := requireFlags(fs, "name"); err != nil {
		return err
	}
	body := map[string]any{"name": *name, "type": *typ, "max_bytes": *maxBytes}
	return callAndPrint(c, "POST", "/apps/"+strconv.FormatInt(*id, 10)+"/profile-fields", nil, body, func(w io.Writer, f operator.ProfileField) {
		fmt.Fprintf(w, "Declared %s (%s%s) for app %d.\n", f.Tag, f.Type, maxBytesText(f), *id)
	})
}

// appProfileFieldList lists an app's custom profile fields.
func (c *cli) appProfileFieldList(args []string) error {
	fs := c.flagSet("app profile-field list")
	id := c.sdkappidFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	return callAndPrint(c, "GET", "/apps/"+strconv.FormatInt(*id, 10)+"/profile-fields", nil, nil, func(w io.Writer, l operator.ProfileFieldList) {
		if len(l.Fields) == 0 {
			fmt.Fprintf(w, "App %d has no custom profile fields.\n", *id)
			return
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TAG\tTYPE\tMAX BYTES\tCREATED")
		for _, f := range l.Fields {
			mb := "-"
			if f.MaxBytes > 0 {
				mb = strconv.Itoa(f.MaxBytes)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Tag, f.Type, mb, f.CreatedAt)
		}
		tw.Flush()
	})
}

func maxBytesText(f operator.ProfileField) string {
	if f.MaxBytes > 0 {
		return fmt.Sprintf(", at most %d bytes", f.MaxBytes)
	}
	return ""
}

// thirdWords lists the third words of the commands that start with the two
// words of prefix ("app profile-field"), "" if none.
func thirdWords(prefix string) string {
	var ws []string
	for _, s := range sections {
		for _, cmd := range s.commands {
			if rest, ok := strings.CutPrefix(cmd.words, prefix+" "); ok && !slices.Contains(ws, rest) {
				ws = append(ws, rest)
			}
		}
	}
	return strings.Join(ws, ", ")
}

// dispatchThird runs a command of three words whose first two are prefix.
func (c *cli) dispatchThird(prefix string, args []string) error {
	subs := thirdWords(prefix)
	w3, rest, err := c.word(args, prefix+" command ("+subs+")")
	if errors.Is(err, flag.ErrHelp) {
		printHelp(c.stdout, prefix)
		return nil
	}
	if err != nil {
		return err
	}
	cmd, ok := lookup(prefix + " " + w3)
	if !ok {
		return usagef("unknown command '%s %s' (%s)", prefix, w3, subs)
	}
	return cmd.run(c, rest)
}
