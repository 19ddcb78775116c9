// Package cli holds what the command-line tools share: repeatable flags and
// Java .properties files.
package cli
