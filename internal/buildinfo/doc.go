// Package buildinfo holds the version stamped into the siecap binary at
// link time (-ldflags -X), with the module's build information as fallback.
package buildinfo
