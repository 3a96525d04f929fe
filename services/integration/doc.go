// Package integration runs the portcullis binary as separate processes (one
// portal on PostgreSQL and three edges over Redis) and checks config
// distribution, outages and restarts over real sockets.
package integration
