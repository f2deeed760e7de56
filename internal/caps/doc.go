// Package caps reads the process's Linux capabilities (capget) and names
// them, so that the daemon can say which one it lacks instead of failing
// later with a bare "operation not permitted".
package caps
