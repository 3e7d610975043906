package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/chatd/chatd/internal/operator"
)

// appPushTask prints the progress of an im_push task (the operator API's
// GET /apps/{sdkappid}/pushes/{taskid}).
func (c *cli) appPushTask(args []string) error {
	fs := c.flagSet("app push-task")
	id := c.sdkappidFlag(fs)
	task := fs.String("task", "", "the TaskId im_push answered (required)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if *task == "" {
		return usagef("app push-task: --task is required")
	}
	path := "/apps/" + strconv.FormatInt(*id, 10) + "/pushes/" + url.PathEscape(*task)
	return callAndPrint(c, "GET", path, nil, nil, func(w io.Writer, t operator.PushTask) {
		fmt.Fprintf(w, "Push %s of app %d: %s, %d targets so far, %d delivered", t.TaskID, t.SDKAppID, t.State, t.Targets, t.Delivered)
		if t.Error != "" {
			fmt.Fprintf(w, " (%s)", t.Error)
		}
		fmt.Fprintln(w)
	})
}
