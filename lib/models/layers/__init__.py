"""Building blocks shared by the CSTrack backbone, fusion modules and heads."""
