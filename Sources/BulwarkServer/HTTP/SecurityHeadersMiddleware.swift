import HTTPTypes
import Hummingbird

/// Gives every answer the router makes the security headers of ``TransitRoutes/headers()`` (HSTS,
/// `nosniff`, `no-store`, a `default-src 'none'` policy), including the ones no route wrote: an
/// unknown path or method (answered by ``TransitRoutes/unknownRoute(_:_:)``: 403 without a valid
/// token, as Vault) and errors thrown before a route answers. A 405 also gets the `Allow` header
/// of ``TransitRoutes/allow(_:)``.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = TransitRequestContext

    /// The answer for a path no route serves.
    let unknownRoute: @Sendable (Request, Context) -> Response
    /// The `Allow` header of a 405 answer to a request (``TransitRoutes/allow(_:)``).
    let allow: @Sendable (Request) -> String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            response = self.unknownRoute(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        if response.status == .methodNotAllowed, response.headers[.allow] == nil {
            // RFC 9110 §15.5.6: a 405 names the methods the target takes.
            response.headers[.allow] = self.allow(request)
        }
        if response.headers[Self.hsts] == nil {
            for field in TransitRoutes.headers() where response.headers[field.name] == nil {
                response.headers[field.name] = field.value
            }
        }
        return response
    }

    private static let hsts = HTTPField.Name("Strict-Transport-Security")!
}
