from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class HeaderLimitOffsetPagination(LimitOffsetPagination):
    """`?limit=` and `?offset=` paging whose body is the plain list of rows.

    The total goes in `X-Total-Count` and the neighbouring pages in an RFC 8288 `Link` header, so that a client reads
    a list the same way whether or not it pages. Junk values fall back to the defaults and a large limit is clamped.
    """

    default_limit = 50
    max_limit = 100

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
                    f"Number of rows to return: default {self.default_limit}, at most {self.max_limit}."
                )
        return parameters
