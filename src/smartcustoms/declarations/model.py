"""The goods declaration, modelled on the WCO Data Model (DEC/IM profile).

Each field carries its WCO ID and XML path in the JSON schema (``x-wco-id``, ``x-wco-path``), so
the OpenAPI document doubles as the mapping table for a customs management system's connector.
Amounts and masses are decimals, never floats: they are recorded in the ledger as exact strings.

This model checks shape (types, lengths, patterns, positive masses). Checks against reference
data — HS code in the edition in force, countries, currencies, container check digits — are in
:mod:`smartcustoms.declarations.validate`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Address",
    "Amount",
    "Declaration",
    "Document",
    "Duty",
    "ExchangeRate",
    "Item",
    "Package",
    "Party",
    "PreviousDocument",
    "Procedure",
    "TransportEquipment",
]


def wco(wco_id: str, path: str, description: str, **kwargs: Any) -> Any:
    """A field documented with its WCO Data Model ID and XML path."""
    return Field(
        description=description,
        json_schema_extra={"x-wco-id": wco_id, "x-wco-path": path},
        **kwargs,
    )


def opt(wco_id: str, path: str, description: str, **kwargs: Any) -> Any:
    """An optional field (absent means None), documented like :func:`wco`."""
    return wco(wco_id, path, description, default=None, **kwargs)


Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")]
# Positive and finite: zero or negative masses make unit values infinite or meaningless.
PositiveDecimal = Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=6)]
NonNegativeDecimal = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Address(Strict):
    line: str | None = opt("239", "Address/Line", "Street and number / PO box", max_length=70)
    city: str | None = opt("241", "Address/CityName", "City", max_length=35)
    postcode: str | None = opt("245", "Address/PostcodeID", "Postcode", max_length=9)
    country: Country | None = opt("242", "Address/CountryCode", "Country, ISO 3166-1 alpha-2")


class Party(Strict):
    id: str = Field(
        min_length=1, max_length=17, description="Party identifier (TIN/EORI-like trader number)"
    )
    name: str | None = Field(None, max_length=70, description="Party name")
    address: Address | None = None


class Amount(Strict):
    value: NonNegativeDecimal
    currency: Currency


class ExchangeRate(Strict):
    currency: Currency = wco("135", "CurrencyExchange/CurrencyTypeCode", "Currency, ISO 4217")
    rate: PositiveDecimal = wco("118", "CurrencyExchange/RateNumeric", "Rate of exchange")


class Procedure(Strict):
    current: str = wco(
        "166", "GovernmentProcedure/CurrentCode", "Requested procedure, e.g. 40", max_length=7
    )
    previous: str | None = opt(
        "161", "GovernmentProcedure/PreviousCode", "Previous procedure", max_length=7
    )


class Package(Strict):
    count: int = wco("144", "Packaging/QuantityQuantity", "Number of packages", gt=0, le=10**9)
    kind: str | None = opt("141", "Packaging/TypeCode", "UN/ECE Rec 21 type", max_length=2)
    marks: str | None = opt("142", "Packaging/MarksNumbersID", "Shipping marks", max_length=512)


class Document(Strict):
    type: str = wco("D006", "AdditionalDocument/TypeCode", "Document type", max_length=4)
    id: str = wco("D005", "AdditionalDocument/ID", "Document reference", max_length=70)


class PreviousDocument(Strict):
    type: str = wco("D019", "PreviousDocument/TypeCode", "Previous document type", max_length=3)
    id: str = wco("D018", "PreviousDocument/ID", "Previous document number", max_length=70)
    line: int | None = opt("171", "PreviousDocument/LineNumeric", "Line", ge=1)


class Duty(Strict):
    type: str = wco("113", "DutyTaxFee/TypeCode", "Duty/tax/fee type", max_length=8)
    regime: str | None = opt("164", "DutyTaxFee/DutyRegimeCode", "Duty regime", max_length=8)
    rate: Decimal | None = opt(
        "115", "DutyTaxFee/SpecificTaxBaseQuantity", "Rate in percent", ge=0, le=10_000
    )
    base_amount: NonNegativeDecimal | None = opt(
        "116", "DutyTaxFee/TaxAssessedAmount", "Ad valorem base"
    )
    assessed_amount: NonNegativeDecimal | None = opt(
        "120", "DutyTaxFee/Payment/PaymentAmount", "Assessed amount"
    )


class TransportEquipment(Strict):
    container_id: str = wco(
        "159", "TransportEquipment/ID", "ISO 6346 container number", min_length=4, max_length=17
    )
    seals: list[str] = Field(default_factory=list, max_length=20, description="Seal numbers")


class Item(Strict):
    sequence: int = wco(
        "006", "GovernmentAgencyGoodsItem/SequenceNumeric", "Item number", ge=1, le=999
    )
    description: str | None = opt(
        "137", "GovernmentAgencyGoodsItem/Commodity/Description", "Goods description",
        max_length=512,
    )  # fmt: skip
    hs_code: str = wco(
        "145", "GovernmentAgencyGoodsItem/Commodity/Classification/ID", "HS subheading, 6 digits",
        pattern=r"^[0-9]{6}$",
    )  # fmt: skip
    national_tariff_code: str | None = opt(
        "145", "GovernmentAgencyGoodsItem/Commodity/Classification/ID", "National tariff line",
        pattern=r"^[0-9]{6,12}$",
    )  # fmt: skip
    origin_country: Country = wco(
        "063", "GovernmentAgencyGoodsItem/Origin/CountryCode", "Country of origin"
    )
    origin_type: str | None = opt(
        "501", "GovernmentAgencyGoodsItem/Origin/TypeCode", "Preferential origin", max_length=4
    )
    procedure: Procedure | None = opt("70A", "GovernmentAgencyGoodsItem/GovernmentProcedure", "")
    customs_value: Amount = wco(
        "108", "GovernmentAgencyGoodsItem/CustomsValueAmount", "Customs value and currency"
    )
    statistical_value: Amount | None = opt(
        "114", "GovernmentAgencyGoodsItem/StatisticalValueAmount", "Statistical value"
    )
    valuation_method: str | None = opt(
        "122", "GovernmentAgencyGoodsItem/ValuationAdjustment", "WTO method 1-6",
        pattern=r"^[1-6]$",
    )  # fmt: skip
    gross_mass_kg: PositiveDecimal | None = opt(
        "126", "GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/GrossMassMeasure", "Gross kg"
    )
    net_mass_kg: PositiveDecimal = wco(
        "128", "GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/NetNetWeightMeasure", "Net kg"
    )
    supplementary_quantity: PositiveDecimal | None = opt(
        "130", "GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/TariffQuantity", "Quantity"
    )
    supplementary_unit: str | None = Field(None, max_length=3, description="UN/ECE Rec 20 unit")
    packages: list[Package] = wco("93A", "GovernmentAgencyGoodsItem/Packaging", "", max_length=99,
                                  default_factory=list)  # fmt: skip
    documents: list[Document] = wco(
        "02A", "GovernmentAgencyGoodsItem/AdditionalDocument", "Certificates, licences, permits",
        default_factory=list, max_length=99,
    )  # fmt: skip
    duties: list[Duty] = wco(
        "50A", "GovernmentAgencyGoodsItem/Commodity/DutyTaxFee", "Self-assessed duties",
        default_factory=list, max_length=20,
    )  # fmt: skip


class Declaration(Strict):
    function_code: str = wco(
        "017", "Declaration/FunctionCode", "9 original, 5 replace, 1 cancel",
        pattern=r"^[0-9]{1,2}$", default="9",
    )  # fmt: skip
    type_code: str = wco("D013", "Declaration/TypeCode", "IM, EX, CO + subtype", max_length=3,
                         default="IM")  # fmt: skip
    lrn: str = wco(
        "D026", "Declaration/FunctionalReferenceID", "Trader's reference (idempotency key)",
        min_length=1, max_length=35,
    )  # fmt: skip
    mrn: str | None = opt("D014", "Declaration/ID", "Customs reference (MRN)", max_length=70)
    issue_datetime: datetime | None = opt("D011", "Declaration/IssueDateTime", "Date lodged")
    office_of_declaration: str = wco(
        "065", "Declaration/DeclarationOfficeID", "Customs office code", min_length=1, max_length=17
    )
    declarant: Party = wco("57B", "Declaration/Declarant", "Declarant")
    agent: Party | None = opt("05A", "Declaration/Agent", "Customs broker / representative")
    importer: Party = wco("74A", "Declaration/Importer", "Importer")
    exporter: Party | None = opt("57A", "Declaration/Exporter", "Exporter")
    consignor: Party | None = opt("30A", "Declaration/Consignment/Consignor", "Consignor")
    seller: Party | None = opt("09B", "Declaration/GoodsShipment/Seller", "Seller")
    buyer: Party | None = opt("16A", "Declaration/GoodsShipment/Buyer", "Buyer")
    export_country: Country | None = opt("062", "Declaration/GoodsShipment/ExportCountry/ID", "")
    destination_country: Country | None = opt(
        "465", "Declaration/GoodsShipment/Destination/CountryCode", ""
    )
    incoterm: str | None = opt(
        "090",
        "Declaration/GoodsShipment/TradeTerms/ConditionCode",
        "Incoterms",
        pattern="^[A-Z]{3}$",
    )
    invoice_total: Amount | None = opt("109", "Declaration/InvoiceAmount", "Invoice total")
    exchange_rate: ExchangeRate | None = opt("40A", "Declaration/CurrencyExchange", "")
    total_gross_mass_kg: PositiveDecimal | None = opt(
        "131", "Declaration/TotalGrossMassMeasure", ""
    )
    total_packages: int | None = opt("146", "Declaration/TotalPackageQuantity", "", gt=0)
    border_transport_mode: str = wco(
        "T022", "Declaration/BorderTransportMeans/ModeCode", "UN/ECE Rec 19: 1 sea, 3 road, 4 air",
        pattern=r"^[0-9]$",
    )  # fmt: skip
    border_transport_id: str | None = opt(
        "T006", "Declaration/BorderTransportMeans/ID", "IMO number, flight, plate", max_length=35
    )
    containerised: bool | None = opt("096", "Declaration/Consignment/ContainerCode", "")
    place_of_loading: str | None = opt(
        "L010", "Declaration/Consignment/LoadingLocation/ID", "UN/LOCODE", max_length=17
    )
    goods_location: str | None = opt(
        "L017", "Declaration/GoodsShipment/Consignment/GoodsLocation/ID", "", max_length=17
    )
    transport_equipment: list[TransportEquipment] = wco(
        "31B", "Declaration/GoodsShipment/Consignment/TransportEquipment", "Containers",
        default_factory=list, max_length=999,
    )  # fmt: skip
    previous_documents: list[PreviousDocument] = wco(
        "99A", "Declaration/GoodsShipment/PreviousDocument", "Manifest, bill of lading",
        default_factory=list, max_length=99,
    )  # fmt: skip
    national_fields: dict[str, str] = Field(
        default_factory=dict,
        max_length=50,
        description="Codes of the administration that the WCO model does not name "
        "(e.g. import type, payment type), as short strings.",
    )
    items: list[Item] = wco(
        "68A", "Declaration/GoodsShipment/GovernmentAgencyGoodsItem", "Goods items",
        min_length=1, max_length=999,
    )  # fmt: skip

    @field_validator("national_fields")
    @classmethod
    def _short_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not 0 < len(key) <= 35 or len(text) > 70:
                raise ValueError(f"{key[:35]!r}: names up to 35 characters, values up to 70")
        return value

    @field_validator("issue_datetime")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-01-31T09:00:00Z)")
        return value
