"""OKX error codes the simulator returns, with the HTTP status OKX pairs them with."""

from __future__ import annotations


class SimError(Exception):
    """A request the simulated OKX refuses: ``code`` and ``msg`` as OKX sends them."""

    def __init__(self, code: str, msg: str, http_status: int = 200) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status


# code -> (default message, HTTP status), from OKX's error-code reference.
CODES: dict[str, tuple[str, int]] = {
    "1": ("Operation failed.", 200),
    "2": ("Bulk operation partially succeeded.", 200),
    "50001": ("Service temporarily unavailable. Try again later", 503),
    "50004": ("API endpoint request timeout (does not mean that the request was successful or "
              "failed, please check the request result).", 400),
    "50011": ("Rate limit reached. Please refer to API documentation and throttle requests "
              "accordingly.", 429),
    "50013": ("Systems are busy. Please try again later.", 429),
    "50014": ("Parameter {param0} can not be empty.", 400),
    "50102": ("Timestamp request expired.", 401),
    "50103": ("Request header \"OK-ACCESS-KEY\" cannot be empty.", 401),
    "50104": ("Request header \"OK-ACCESS-PASSPHRASE\" cannot be empty.", 401),
    "50105": ("Request header \"OK-ACCESS-PASSPHRASE\" incorrect.", 401),
    "50106": ("Request header \"OK-ACCESS-SIGN\" cannot be empty.", 401),
    "50107": ("Request header \"OK-ACCESS-TIMESTAMP\" cannot be empty.", 401),
    "50111": ("Invalid OK-ACCESS-KEY.", 401),
    "50112": ("Invalid OK-ACCESS-TIMESTAMP.", 401),
    "50113": ("Invalid Sign.", 401),
    "50114": ("Invalid authorization.", 401),
    "50120": ("API key doesn't have permission to trade.", 401),
    "51000": ("Parameter {param0} error", 200),
    "51001": ("Instrument ID, Instrument ID code, or Spread ID doesn't exist.", 200),
    "51008": ("Order failed. Insufficient USDT balance in account.", 200),
    "51016": ("Duplicated clOrdId", 200),
    "51020": ("Your order should meet or exceed the minimum order amount.", 200),
    "51024": ("Your account has been suspended.", 200),
    "51121": ("Order quantity must be a multiple of the lot size.", 200),
    "51131": ("Insufficient balance.", 200),
    "51400": ("Order cancellation failed as the order has been filled, canceled or does not "
              "exist.", 200),
    "51401": ("Order has been canceled.", 200),
    "51402": ("Order has been filled.", 200),
    "51503": ("Order modification failed as the order has been filled, canceled or does not "
              "exist.", 200),
    "51603": ("Order does not exist", 200),
    "51010": ("You can't complete this request under your current account mode.", 200),
    "51155": ("Spot trading is restricted for this instrument (suspended).", 200),
    "51169": ("Order failed because you don't have any positions in this direction for this "
              "contract to reduce or close.", 200),
    "51201": ("Value of per market order cannot exceed 1,000,000 USDT.", 200),
    "51205": ("Reduce Only is not available.", 200),
    "58350": ("Insufficient balance.", 200),
    "58004": ("Account blocked.", 200),
    "58119": ("{0} Sub-account has no permission to transfer out, please set first.", 200),
    "59102": ("Leverage exceeds the maximum leverage. Adjust the leverage.", 200),
    "51116": ("Order price or trigger price exceeds {param0}.", 200),
    "51138": ("Your position is insufficient to close.", 200),
    "59107": ("Leverage is not valid.", 200),
    "51134": ("Closing failed. Please check your holdings and pending orders.", 200),
    "54031": ("Borrowing limit exceeded.", 200),
    "59200": ("Insufficient account balance.", 200),
    "51050": ("The purchase or redemption amount exceeds the limit.", 200),
    "51720": ("Insufficient balance for redemption.", 200),
    "51728": ("Redemption is temporarily unavailable.", 200),
    "58113": ("Borrowing limit exceeded.", 200),
    "59310": ("The repay amount exceeds the liability.", 200),
}


def err(code: str, msg: str | None = None, **params: str) -> SimError:
    """The SimError for ``code``, with OKX's message (``{param0}`` filled from params)."""
    default, status = CODES.get(code, ("Operation failed.", 200))
    text = msg if msg is not None else default
    for k, v in params.items():
        text = text.replace("{" + k + "}", v)
    return SimError(code, text, status)
