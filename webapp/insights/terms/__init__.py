"""Terms: words and phrases of mentions (extract), rising terms (rising), their API and panel."""
