"""Employee API: categories and the product catalog (active products only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request

from catalog.filters import ProductFilter
from catalog.images import image_url
from catalog.models import Category, Product
from catalog.page_cache import cacheable, product_page
from catalog.selectors import category_list, product_list_visible
from shop.http.conditional import json_with_etag, rendered_response


@extend_schema_serializer(component_name="CategoryRef")
class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


@extend_schema_serializer(component_name="Product")
class ProductOutputSerializer(serializers.ModelSerializer):
    category = CategoryRefSerializer(allow_null=True)
    image_url = serializers.SerializerMethodField()
    in_stock = serializers.BooleanField()

    class Meta:
        model = Product
        fields = ["id", "name", "description", "points_cost", "category", "image_url", "stock", "in_stock"]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image_url(self, obj: Product) -> str | None:
        return image_url(obj.image, self.context.get("request"))


class CategoryListApi(ListAPIView):
    @extend_schema_serializer(component_name="Category")
    class OutputSerializer(serializers.ModelSerializer):
        product_count = serializers.IntegerField()

        class Meta:
            model = Category
            fields = ["id", "name", "slug", "product_count"]

    serializer_class = OutputSerializer
    filter_backends: list[Any] = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return category_list()


class ProductListApi(ListAPIView):
    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return product_list_visible()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                name="If-None-Match",
                type=OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                required=False,
                description="The ETag of a page you have; 304 with no body if it is unchanged.",
            )
        ],
        responses={
            200: ProductOutputSerializer(many=True),
            304: OpenApiResponse(description="Not modified: the page matching If-None-Match is current."),
        },
    )
    # A rendered HttpResponse rather than DRF's Response: the body is rendered once, to hash it.
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        def build() -> Any:
            return super(ProductListApi, self).list(request, *args, **kwargs).data

        if not cacheable(request.query_params):
            return json_with_etag(request, build())
        # The page's next/previous links are absolute, so scheme and host are part of the key.
        key = (
            request.scheme,
            request.get_host(),
            tuple(sorted((name, tuple(values)) for name, values in request.query_params.lists())),
        )
        return rendered_response(request, product_page(key=key, build=build))


class ProductDetailApi(RetrieveAPIView):
    serializer_class = ProductOutputSerializer
    filter_backends: list[Any] = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return product_list_visible()
