"""Employee API: categories and the product catalog (active products only)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from catalog.filters import ProductFilter
from catalog.images import image_url
from catalog.models import Category, Product
from catalog.selectors import category_list, product_list_visible


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


class ProductDetailApi(RetrieveAPIView):
    serializer_class = ProductOutputSerializer
    filter_backends: list[Any] = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return product_list_visible()
