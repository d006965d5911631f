"""Reference data: the HS nomenclature by edition, countries and currencies, UN/LOCODE points,
ISO 6346 container numbers and WCO code lists, packaged so nothing is fetched at run time."""
