// Deliberately outside the layering: no layer of the graph is called nolayer.
#pragma once
