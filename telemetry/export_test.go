package telemetry

// DurBatch is how many durations Metrics holds before it records them.
const DurBatch = durBatch
