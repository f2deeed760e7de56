// Package kerneltests holds siecap's tests that need a real kernel and
// privileges: the pre-filter programs run through BPF_PROG_TEST_RUN, a
// differential test against the Go reference classifier, end-to-end runs on
// veth pairs in network namespaces, verifier budgets and the programs'
// benchmarks. Tests skip, naming the privilege or kernel feature, when it is
// missing. The qemu/ directory runs them under Debian's own kernels.
package kerneltests
