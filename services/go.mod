module portcullis.dev/services

go 1.26.0

require (
	github.com/quic-go/quic-go v0.65.0
	portcullis.dev/edge v0.0.0
	portcullis.dev/plugins-marketplace v0.0.0
	portcullis.dev/portal v0.0.0
	portcullis.dev/tenants v0.0.0
)

replace portcullis.dev/edge => ../edge

replace portcullis.dev/portal => ../portal

replace portcullis.dev/plugins-marketplace => ../plugins-marketplace

replace portcullis.dev/tenants => ../tenants
