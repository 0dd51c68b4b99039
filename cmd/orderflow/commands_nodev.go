//go:build nodev

package main

// devCommands: none in the production build (-tags nodev), which links
// neither the embedded Temporal server nor its UI.
func devCommands() []command { return nil }
