// Package otel is placeholder.
package otel
