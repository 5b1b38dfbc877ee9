profile = t
a = 1000 | d | s | recalled ±5%
b = 10 | d | s | estimate 1..20
c = 7 | d | [V] | derived +-12.5%
