module portcullis.dev/plugins-marketplace

go 1.26.0

require (
	github.com/elastic/go-seccomp-bpf v1.6.0
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/landlock-lsm/go-landlock v0.11.2
	github.com/redis/go-redis/v9 v9.23.0
	github.com/risor-io/risor v1.8.1
	golang.org/x/sys v0.49.0
	gopkg.in/yaml.v3 v3.0.1
	portcullis.dev/tenants v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/kr/text v0.2.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/net v0.41.0 // indirect
	kernel.org/pub/linux/libs/security/libcap/psx v1.2.78 // indirect
)

replace portcullis.dev/tenants => ../tenants
