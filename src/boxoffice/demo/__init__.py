"""The realistic demo data generator behind `boxoffice demo`."""
