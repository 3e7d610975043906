// Command chatd is the chat server and its operator CLI in one binary.
//
//	chatd serve [flags]          run the server
//	chatd <command> [flags]      talk to a running server's operator API
//	chatd help                   list the commands (the table in cli.go)
package main

import "os"

func main() {
	os.Exit(runCLI(os.Args[1:]))
}
