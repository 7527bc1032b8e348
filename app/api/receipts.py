"""Receipts from other MedCom systems or the VANS network (XCTL01/02/03 XML)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.payloads import AckOut, DeliveryOut, ReceiptOut, problem_responses
from app.deps import DatabaseDep, ReceiptPosterDep, RequestBody, XmlDep, body_of, in_thread
from app.services import receipts

__all__ = ["router"]

router = APIRouter(prefix="/v1/receipts", tags=["inbox"])

ReceiptBody = Annotated[
    RequestBody,
    Depends(body_of("xml", what="A receipt is MedCom XML (application/xml)")),
]
_RECEIPT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/xml": {
                "schema": {"type": "string", "description": "An XCTL01/02/03 OIOXML receipt."},
                "example": '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Emessage '
                'xmlns="http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/">'
                "…<PositiveReceipt>…</PositiveReceipt></Emessage>",
            }
        },
    }
}


@router.post(
    "",
    response_model=AckOut,
    status_code=status.HTTP_201_CREATED,
    summary="Post a receipt from another MedCom system",
    openapi_extra=_RECEIPT_BODY,
    responses={
        200: {"model": AckOut, "description": "This receipt was received before."},
        **problem_responses(401, 403, 409, 413, 415, 422),
    },
)
@in_thread
def post_receipt(
    ctx: ReceiptPosterDep,
    body: ReceiptBody,
    response: Response,
    db: DatabaseDep,
    renderer: XmlDep,
) -> AckOut:
    """Applies a MedCom receipt (XCTL03 positive, XCTL02 negative, XCTL01 negative from the
    VANS network; in an accepted encoding, which must be true) to the deliveries it names by
    original envelope id, original letter id and EANs, and passes it to the original
    sender's inbox in ISO-8859-1.
    An organisation posts receipts in its own name; XCTL01, and receipts on behalf of others,
    need a key with the scope `gateway`."""
    posted = receipts.read_receipt_xml(body.content, schemas=renderer.schemas)
    with db.transaction() as session:
        outcome = receipts.accept_receipt(
            session, ctx, receipt=posted.receipt, envelope_id=posted.envelope_id, xml=posted.xml
        )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    delivery = outcome.delivery
    return AckOut(
        delivery=DeliveryOut.of(delivery, delivery.message.letter_id),
        receipt=ReceiptOut.of_receipt(outcome.receipt) if outcome.receipt else None,
    )
