"""Payment routes: the test provider's page, and where a provider's answer comes back.

`GET /pay/test/{order_key}` is the test provider's page (pay, cancel); its form posts to
`POST /pay/test/{order_key}`, the route a real provider's notifications would reach under
its own name (docs/public-api.md, "Plugging in a real provider").
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine
from boxoffice.server.errors import Conflict, Gone, NotFound
from boxoffice.server.lenient import api_router
from boxoffice.server.payments import service as payments
from boxoffice.server.payments.page import render_test_page
from boxoffice.server.payments.providers import TestProvider
from boxoffice.server.public import order_service
from boxoffice.server.public.order_schemas import form_fields
from boxoffice.server.public.tenancy import PublicTenant
from boxoffice.server.public.urls import public_base
from boxoffice.server.tickets import i18n
from boxoffice.server.values.clock import now_micros

router = api_router(tags=["public payments"])

ProviderName = Annotated[str, Path(max_length=32)]
OrderKey = Annotated[str, Path(max_length=64)]
# No caching, no referrer (the URL holds the order key), no framing, nothing external.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
}


@dataclass
class PaymentAt:
    """What `/pay/{provider}/{order_key}` names: one payment of one client, and the URL."""

    request: Request
    tenant: PublicTenant
    engine: AppEngine
    provider: ProviderName
    order_key: OrderKey

    def url(self) -> str:
        return f"{public_base(self.request, self.tenant)}/pay/{self.provider}/{self.order_key}"

    def page(self, status: int, asked: str | None = None) -> Response:
        """The test provider's page of the payment, whose form posts back to `url()`, in
        the language `asked` (the form's `lang`), `?lang=` or the browser's."""
        language = i18n.choose_language(
            asked or self.request.query_params.get("lang"),
            None,
            self.request.headers.get("accept-language", ""),
        )
        with read_transaction(self.engine) as conn:
            found, tickets = order_service.get_payment_page(
                conn, tenant=self.tenant, order_key=self.order_key
            )
            if found.payment["provider"] != TestProvider.name:
                raise NotFound("Order")
            html = render_test_page(
                found, tickets, self.tenant, action=self.url(), now=now_micros(), language=language
            )
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


Payment = Annotated[PaymentAt, Depends()]


@router.get(
    "/pay/{provider}/{order_key}",
    response_class=HTMLResponse,
    responses=NotFound.documented("No order paid with this provider has this key."),
)
def payment_page(at: Payment) -> Response:
    """Where the buyer comes to pay, and back from a provider: the provider is asked for
    the payment's status first. The test provider's page shows the order, *pay* and
    *cancel*; any other provider's buyer goes on to the site once the payment is settled."""
    with write_transaction(at.engine) as tx:
        settled = payments.refresh(
            tx, tenant=at.tenant, order_key=at.order_key, provider_name=at.provider
        )
    if at.provider != TestProvider.name:
        if settled.redirect is None:
            raise NotFound("Order")
        return RedirectResponse(settled.redirect, status_code=303, headers=PAGE_HEADERS)
    return at.page(200)


# The form of the test provider's page (a real provider posts its own fields here).
_ANSWER_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"action": {"type": "string", "enum": ["pay", "cancel"]}},
                    "required": ["action"],
                }
            }
        },
    }
}


@router.post(
    "/pay/{provider}/{order_key}",
    response_class=HTMLResponse,
    openapi_extra=_ANSWER_FORM,
    responses={303: {"description": "Settled: on to redirectURL?return=<order_key>."}}
    | NotFound.documented("No order paid with this provider has this key.")
    | Conflict.documented("The payment is closed already (cancelled).")
    | Gone.documented("The reservation expired before it was paid."),
)
async def payment_answer(at: Payment) -> Response:
    """The provider's answer: for `test`, the form of its page (`action=pay|cancel`)."""
    # The route is lenient: a form body arrives here as the JSON object it means.
    fields = form_fields(await at.request.body())

    def settle() -> payments.Settled:
        with write_transaction(at.engine) as tx:
            return payments.settle(
                tx,
                tenant=at.tenant,
                order_key=at.order_key,
                provider_name=at.provider,
                fields=fields,
            )

    settled = await run_in_threadpool(settle)
    if settled.redirect is not None:
        return RedirectResponse(settled.redirect, status_code=303, headers=PAGE_HEADERS)
    status = 410 if settled.state == "expired" else 200
    return await run_in_threadpool(at.page, status, fields.get("lang"))
