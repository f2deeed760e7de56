// Command siecap is the SIE capture appliance's one binary: the daemon,
// the operator's CLI and the NMSG tools (dump, ingest, lab, gen).
//
// main parses nothing itself: it runs the cobra command tree and maps
// errors to exit codes (0 success, 1 damaged input or a failed operation,
// 2 usage errors).
package main
