module portcullis.dev/tenants

go 1.26.0
