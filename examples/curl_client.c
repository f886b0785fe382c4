/* curl_client: a GET to a pinned API with libcurl, pinned by certpin.
 *
 *   curl_client POLICY.json CAFILE URL API_KEY [ADDRESS]
 *
 * Fetches URL (https) with the header "X-API-Key: API_KEY" and prints certpin's verdict; on a
 * refusal, certpin's explanation. ADDRESS, when given, is where to connect instead of resolving
 * the URL's host (CURLOPT_RESOLVE; the host checked is still the URL's). Exit status: 0 accepted
 * (the response follows the verdict), 1 refused by certpin, 2 usage, setup or another failure.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include <certpin/certpin.h>
#include <certpin/curl.h>

/* CURLOPT_RESOLVE "HOST:PORT:ADDRESS" for the URL's host and port. */
static struct curl_slist *resolve_to(const char *url, const char *address)
{
    CURLU *u = curl_url();
    char *host = NULL;
    char *port = NULL;
    char entry[512];
    struct curl_slist *list = NULL;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        snprintf(entry, sizeof(entry), "%s:%s:%s", host, port, address);
        list = curl_slist_append(NULL, entry);
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return list;
}

int main(int argc, char **argv)
{
    certpin_error err;
    certpin_policy *policy;
    certpin_ctx *pin;
    certpin_curl *pinned = NULL;
    const certpin_result *result;
    struct curl_slist *headers = NULL;
    struct curl_slist *resolve = NULL;
    char header[512];
    char curl_error[CURL_ERROR_SIZE] = "";
    CURL *easy;
    CURLcode rc;
    long status = 0;
    int exit_status;

    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s POLICY.json CAFILE URL API_KEY [ADDRESS]\n", argv[0]);
        return 2;
    }

    /* The policy. One that does not load is an error, never "no pinning". */
    policy = certpin_policy_load_file(argv[1], NULL, &err);
    if (policy == NULL) {
        fprintf(stderr, "%s:%d:%d: %s\n", err.source, err.line, err.column, err.text);
        return 2;
    }
    pin = certpin_ctx_new(policy); /* the context takes its own reference */
    certpin_policy_free(policy);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    easy = curl_easy_init();
    snprintf(header, sizeof(header), "X-API-Key: %s", argv[4]);
    headers = curl_slist_append(NULL, header);
    if (argc == 6) {
        resolve = resolve_to(argv[3], argv[5]);
    }
    /* curl's own verification stays on (the default): pinning narrows it, never replaces it. Attach
     * certpin before the first transfer; it takes CURLOPT_SSL_CTX_FUNCTION and
     * CURLOPT_PREREQFUNCTION (give your own through certpin_curl_set_*_function). */
    if (pin == NULL || easy == NULL || headers == NULL || (argc == 6 && resolve == NULL) ||
        curl_easy_setopt(easy, CURLOPT_URL, argv[3]) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CAINFO, argv[2]) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, curl_error) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_TIMEOUT, 20L) != CURLE_OK) {
        fprintf(stderr, "cannot set up libcurl\n");
        return 2;
    }
    if (certpin_curl_attach(easy, pin, &pinned, &err) != CERTPIN_OK) {
        fprintf(stderr, "certpin: %s\n", err.text);
        return 2;
    }

    /* The transfer. A refusal happens before any byte of the request (and so the key) is sent.
     * curl reports a pin failure as a certificate problem like any other; certpin's result says
     * whether it was one, and why. The response body goes to standard output. */
    printf("GET %s\n", argv[3]);
    fflush(stdout);
    rc = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    result = certpin_curl_result(pinned);
    if (rc == CURLE_OK) {
        printf("\ncertpin: %s\nHTTP status %ld\n",
               certpin_verdict_str(certpin_result_verdict(result)), status);
        exit_status = 0;
    } else if (certpin_result_verdict(result) != CERTPIN_NOT_CHECKED &&
               !certpin_verdict_accepted(certpin_result_verdict(result))) {
        printf("certpin: %s\n", certpin_verdict_str(certpin_result_verdict(result)));
        fprintf(stderr, "curl: %s\n%s", curl_error[0] != '\0' ? curl_error : curl_easy_strerror(rc),
                certpin_result_explain((certpin_result *)result));
        exit_status = 1;
    } else {
        /* Not certpin's doing: a name that does not resolve, a server that is down, ... */
        fprintf(stderr, "curl: %s\n", curl_error[0] != '\0' ? curl_error : curl_easy_strerror(rc));
        exit_status = 2;
    }

    /* The attachment outlives the handle: free it after curl_easy_cleanup. */
    curl_easy_cleanup(easy);
    certpin_curl_free(pinned);
    certpin_ctx_free(pin);
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_global_cleanup();
    return exit_status;
}
