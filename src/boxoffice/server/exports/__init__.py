"""The bulk export API: one exporter per dataset, a streaming writer per format, the routes."""
