module portcullis.dev/plugins-marketplace

go 1.26.0

require github.com/risor-io/risor v1.8.1
