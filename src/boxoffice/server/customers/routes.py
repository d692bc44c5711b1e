"""HTTP routes of customers: parse, one service call, render with user_resource."""

from typing import Annotated

from fastapi import Body, Response

from boxoffice.server.customers import service
from boxoffice.server.customers.resources import UserResource, user_resource
from boxoffice.server.customers.schemas import (
    CustomerCreate,
    CustomerId,
    CustomerUpdate,
    FindByEmail,
    TagNames,
    parse_tag_names,
)
from boxoffice.server.customers.service import CustomerRecord
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine
from boxoffice.server.errors import Conflict, NotFound, Responses
from boxoffice.server.lenient import api_router
from boxoffice.server.responses import json_response
from boxoffice.server.tenancy.auth import CurrentTenant
from boxoffice.server.tenancy.service import Tenant

router = api_router(tags=["customers"])

_NOT_FOUND: Responses = NotFound.documented("Customer not found.")
_CHANGE: Responses = _NOT_FOUND | Conflict.documented("The customer was erased.")


def _render(record: CustomerRecord, tenant: Tenant, status_code: int = 200) -> Response:
    return json_response(user_resource(record.row, record.tags, tenant.timezone), status_code)


@router.post("/customer", status_code=201, response_model=UserResource)
def create_customer(tenant: CurrentTenant, engine: AppEngine, body: CustomerCreate) -> Response:
    with write_transaction(engine) as tx:
        record = service.create_customer(tx, tenant_id=tenant.id, fields=body.columns())
    return _render(record, tenant, 201)


@router.post("/customer/findByEmail", response_model=UserResource, responses=_NOT_FOUND)
def find_customer_by_email(tenant: CurrentTenant, engine: AppEngine, body: FindByEmail) -> Response:
    with read_transaction(engine) as conn:
        record = service.find_customer_by_email(conn, tenant_id=tenant.id, email=body.email)
    return _render(record, tenant)


@router.get("/customer/{customerId}", response_model=UserResource, responses=_NOT_FOUND)
def get_customer(tenant: CurrentTenant, engine: AppEngine, customer_id: CustomerId) -> Response:
    with read_transaction(engine) as conn:
        record = service.get_customer(conn, tenant_id=tenant.id, customer_id=customer_id)
    return _render(record, tenant)


@router.put("/customer/{customerId}", response_model=UserResource, responses=_CHANGE)
def update_customer(
    tenant: CurrentTenant, engine: AppEngine, customer_id: CustomerId, body: CustomerUpdate
) -> Response:
    with write_transaction(engine) as tx:
        record = service.update_customer(
            tx, tenant_id=tenant.id, customer_id=customer_id, changes=body.columns()
        )
    return _render(record, tenant)


@router.delete("/customer/{customerId}", response_model=UserResource, responses=_NOT_FOUND)
def erase_customer(tenant: CurrentTenant, engine: AppEngine, customer_id: CustomerId) -> Response:
    with write_transaction(engine) as tx:
        record = service.erase_customer(tx, tenant_id=tenant.id, customer_id=customer_id)
    return _render(record, tenant)


@router.get("/customer/{customerId}/clienttypes", response_model=list[str], responses=_NOT_FOUND)
def get_customer_tags(
    tenant: CurrentTenant, engine: AppEngine, customer_id: CustomerId
) -> Response:
    with read_transaction(engine) as conn:
        tags = service.get_customer_tags(conn, tenant_id=tenant.id, customer_id=customer_id)
    return json_response(tags)


@router.post("/customer/{customerId}/clienttypes", response_model=list[str], responses=_CHANGE)
def replace_customer_tags(
    tenant: CurrentTenant,
    engine: AppEngine,
    customer_id: CustomerId,
    body: Annotated[TagNames, Body()],
) -> Response:
    names = parse_tag_names(body)
    with write_transaction(engine) as tx:
        tags = service.replace_customer_tags(
            tx, tenant_id=tenant.id, customer_id=customer_id, names=names
        )
    return json_response(tags)
