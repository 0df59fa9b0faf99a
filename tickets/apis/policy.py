"""The support policy as data: tiers with their targets, and the priorities."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from scalr_support.common.api import READ_ERRORS, error_responses
from scalr_support.common.apis import ApiView
from tickets.choices import PRIORITY_DESCRIPTIONS
from tickets.choices import Priority as PriorityChoice
from tickets.sla_reads import sla_reads


@extend_schema_serializer(component_name="ResponseTarget")
class TargetOutputSerializer(serializers.Serializer):
    priority = serializers.IntegerField(read_only=True)
    amount = serializers.IntegerField(read_only=True)
    unit = serializers.CharField(
        read_only=True,
        help_text=_("m, h, bd (business days) or eod (end of the business day)."),
    )
    clock = serializers.CharField(
        read_only=True, help_text=_("24x7, or business (hours).")
    )
    guaranteed = serializers.BooleanField(
        read_only=True, help_text=_("False: best effort, never reported as breached.")
    )
    label = serializers.CharField(  # type: ignore[assignment]
        read_only=True, help_text=_("As the policy says it.")
    )


class TierListApi(ApiView):
    """GET /tiers/: the support tiers and their response targets."""

    @extend_schema_serializer(component_name="Tier")
    class OutputSerializer(serializers.Serializer):
        slug = serializers.SlugField(read_only=True)
        name = serializers.CharField(read_only=True)
        response_summary = serializers.CharField(read_only=True)
        guaranteed_response = serializers.BooleanField(read_only=True)
        realtime_sessions = serializers.BooleanField(read_only=True)
        realtime_max_priority = serializers.IntegerField(read_only=True)
        community_slack = serializers.BooleanField(read_only=True)
        response_targets = TargetOutputSerializer(
            many=True,
            read_only=True,
            help_text=_("The target for each priority, most urgent first."),
        )

    @extend_schema(
        operation_id="tiers_list",
        summary="List support tiers",
        responses={
            200: OpenApiResponse(
                OutputSerializer(many=True),
                examples=[
                    OpenApiExample(
                        "Tiers",
                        value=[
                            {
                                "slug": "business",
                                "name": "Business",
                                "response_summary": "Priority based - 24x7",
                                "guaranteed_response": True,
                                "realtime_sessions": True,
                                "realtime_max_priority": 3,
                                "community_slack": True,
                                "response_targets": [
                                    {
                                        "priority": 0,
                                        "amount": 2,
                                        "unit": "h",
                                        "clock": "24x7",
                                        "guaranteed": True,
                                        "label": "2 hours",
                                    }
                                ],
                            }
                        ],
                    )
                ],
            ),
            **error_responses(*READ_ERRORS),
        },
        tags=["policy"],
    )
    def get(self, request: Request) -> Response:
        tiers = sla_reads().tiers_with_targets()
        return Response(TierListApi.OutputSerializer(tiers, many=True).data)


class PriorityListApi(ApiView):
    """GET /priorities/: the five priorities, the policy's words, each tier's target."""

    @extend_schema_serializer(component_name="Priority")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="TierTarget")
        class TierTargetSerializer(TargetOutputSerializer):
            tier = serializers.SlugField(read_only=True)
            tier_name = serializers.CharField(read_only=True)

        value = serializers.IntegerField(read_only=True)
        label = serializers.CharField(read_only=True)  # type: ignore[assignment]
        description = serializers.CharField(
            read_only=True, help_text=_("The support policy's definition.")
        )
        targets = TierTargetSerializer(
            many=True,
            read_only=True,
            help_text=_("This priority's response target in each tier."),
        )

    @extend_schema(
        operation_id="priorities_list",
        summary="List priorities",
        responses={
            200: OpenApiResponse(
                OutputSerializer(many=True),
                examples=[
                    OpenApiExample(
                        "Priorities",
                        value=[
                            {
                                "value": 0,
                                "label": "P0 Blocker",
                                "description": str(
                                    PRIORITY_DESCRIPTIONS[PriorityChoice.BLOCKER]
                                ),
                                "targets": [
                                    {
                                        "tier": "business",
                                        "tier_name": "Business",
                                        "priority": 0,
                                        "amount": 2,
                                        "unit": "h",
                                        "clock": "24x7",
                                        "guaranteed": True,
                                        "label": "2 hours",
                                    }
                                ],
                            }
                        ],
                    )
                ],
            ),
            **error_responses(*READ_ERRORS),
        },
        tags=["policy"],
    )
    def get(self, request: Request) -> Response:
        tiers = list(sla_reads().tiers_with_targets())
        priorities = [
            {
                "value": priority.value,
                "label": priority.label,
                "description": PRIORITY_DESCRIPTIONS[priority],
                "targets": [
                    {
                        "tier": tier.slug,
                        "tier_name": tier.name,
                        "priority": target.priority,
                        "amount": target.amount,
                        "unit": target.unit,
                        "clock": target.clock,
                        "guaranteed": target.guaranteed,
                        "label": target.label,
                    }
                    for tier in tiers
                    for target in tier.response_targets.all()
                    if target.priority == priority.value
                ],
            }
            for priority in PriorityChoice
        ]
        return Response(PriorityListApi.OutputSerializer(priorities, many=True).data)
