"""Applications (別紙1/2), bulk registration (別紙3) and change notices (別紙4)."""
