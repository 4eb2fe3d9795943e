import CanopyCore
