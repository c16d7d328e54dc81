from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class HeaderLimitOffsetPagination(LimitOffsetPagination):
    """`?limit=` and `?offset=` paging whose body is the plain list of rows.

    The total goes in `X-Total-Count` and the neighbouring pages in an RFC 8288 `Link` header, so that a client reads
    a list the same way whether or not it pages. A limit above the maximum is clamped and an offset past the end gives
    an empty page; anything that is not a whole number (or a limit of 0) answers 400 instead of being guessed at.
    """

    default_limit = 50
    max_limit = 100

    def _whole_number(self, request, param: str, default: int, minimum: int) -> int:
        raw = request.query_params.get(param)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or int(raw) < minimum:
            raise ValidationError({param: [f"A whole number of {minimum} or more is required."]})
        return int(raw)

    def get_limit(self, request) -> int:
        return min(self._whole_number(request, self.limit_query_param, self.default_limit, 1), self.max_limit)

    def get_offset(self, request) -> int:
        return self._whole_number(request, self.offset_query_param, 0, 0)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.count = self.get_count(queryset)
        # Never ask the database for an offset past the end: it answers nothing there, and a huge value overflows.
        self.offset = min(self.get_offset(request), self.count)
        if self.count == 0 or self.offset == self.count:
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, data):
        headers = {"X-Total-Count": str(self.count)}
        links = self.get_links()
        if links:
            headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)
        return Response(data, headers=headers)

    def get_links(self) -> list[tuple[str, str]]:
        url = self.request.build_absolute_uri()
        last_offset = max((self.count - 1) // self.limit * self.limit, 0)

        def page(offset: int) -> str:
            paged = replace_query_param(url, self.limit_query_param, self.limit)
            if offset <= 0:
                return remove_query_param(paged, self.offset_query_param)
            return replace_query_param(paged, self.offset_query_param, offset)

        links = [("first", page(0))]
        if self.offset > 0:
            links.append(("prev", page(self.offset - self.limit)))
        if self.offset + self.limit < self.count:
            links.append(("next", page(self.offset + self.limit)))
        links.append(("last", page(last_offset)))
        return links

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (
                    f"Number of rows to return: default {self.default_limit}; larger values give {self.max_limit}."
                )
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.offset_query_param:
                parameter["schema"]["minimum"] = 0
        return parameters
