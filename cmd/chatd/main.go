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
              [--tls-cert FILE --tls-key FILE]

Operator CLI (global flags: --server URL, --token T, --data DIR, --json):
  chatd account create --name NAME --email EMAIL [--phone P]
  chatd account show --account ID
  chatd app create --account ID --name NAME [--region REGION]
  chatd app list --account ID
  chatd app show --sdkappid N
  chatd app delete --sdkappid N --confirm N
  chatd app mau --sdkappid N [--month YYYY-MM]
  chatd usersig --sdkappid N --key K --user U [--expire SECONDS]
`)
}
