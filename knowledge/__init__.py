"""The knowledge base: law texts, curated entries, tokenizer, index and matching. Pure and synchronous."""
