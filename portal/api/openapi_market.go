package api

// marketplaceOperations lists the endpoints of plugins, namespaces,
// installs and custom domains for the OpenAPI document.
func marketplaceOperations() []operation {
	return append(domainOperations(), pluginOperations()...)
}
