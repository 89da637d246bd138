// The CFI parser and table compiler live here.
