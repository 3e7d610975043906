// Command chatd is the chat server and its operator CLI in one binary.
//
//	chatd serve [flags]          run the server
//	chatd <command> [flags]      talk to a running server's operator API (see chatd help)
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(runServe(os.Args[2:]))
	case "help", "-h", "--help":
		usage()
	default:
		os.Exit(runCLI(os.Args[1:]))
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `chatd — self-hosted chat cloud

Server:
  chatd serve [--data DIR] [--addr HOST:PORT] [--store sqlite|postgres] [--postgres-url URL]
              [--tls-cert FILE --tls-key FILE] [--fake-clock TIME] [--trial-auto-extend]
              [--notify-file FILE] [--smtp-addr HOST:PORT --smtp-from ADDR [--smtp-user U]]
              [--notify-webhook URL [--notify-webhook-secret S]]
  (chatd serve -h describes every flag; each has a CHATD_* environment variable)

Operator CLI (global flags: --server URL, --token T, --data DIR, --json):
  chatd account create --name NAME --email EMAIL [--phone P]
  chatd account show --account ID
  chatd app create --account ID --name NAME [--region REGION]
  chatd app list --account ID
  chatd app show --sdkappid N
  chatd app delete --sdkappid N --confirm N
  chatd app mau --sdkappid N [--month YYYY-MM]
  chatd app extend-trial --sdkappid N
  chatd usersig --sdkappid N --key K --user U [--expire SECONDS]

Money (amounts in USD, e.g. 100 or 99.50):
  chatd catalog
  chatd account topup --account ID [--cash X] [--credit Y] [--request-id K]
  chatd account suspend --account ID --reason R        (permanent: a content violation)
  chatd voucher issue --account ID --amount X --expires YYYY-MM-DD|RFC3339 [--scope all|editions|addons]
  chatd voucher list --account ID
  chatd plan buy --sdkappid N --edition standard|premium --months 1..24 --accept-agreement
                 [--auto-renew] [--voucher ID] [--discount X] [--non-refundable REASON] [--request-id K]
  chatd plan upgrade --sdkappid N --edition premium [--voucher ID] [--request-id K]
  chatd plan renew --sdkappid N[,N...] --months M [--voucher ID] [--request-id K]
  chatd plan auto-renew --sdkappid N --on|--off
  chatd plan refund --sdkappid N [--reason R] [--request-id K]
  chatd addon buy --sdkappid N --addon ID [--quantity Q] --months M [--voucher ID] [--request-id K]
  chatd addon refund --sdkappid N --addon ID [--reason R] [--request-id K]
  chatd addon promote --addon ID --free-until DATE | --end
  chatd order list --account ID
  chatd order non-refundable --order ID --reason R | --allow
  chatd bill list --account ID
  chatd notification list --account ID
  Orders without --request-id get a random one, so one command never charges twice.

Clock (moving it needs a server started with --fake-clock):
  chatd clock show
  chatd clock set TIME                 (RFC 3339, e.g. 2027-01-31T00:00:00Z)
  chatd clock advance DURATION         (e.g. 24h, 30d, 1d12h)
`)
}
