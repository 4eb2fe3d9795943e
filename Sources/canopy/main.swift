import Canopy
print("canopy")
