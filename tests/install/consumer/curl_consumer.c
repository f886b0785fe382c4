/* A program outside the tree that pins a curl easy handle with the installed certpin. */
#include <stdio.h>

#include <curl/curl.h>

#include <certpin/certpin.h>
#include <certpin/curl.h>

int main(void)
{
    certpin_builder *b = certpin_builder_new();
    certpin_policy *p = certpin_builder_build(b, NULL);
    certpin_ctx *pin = certpin_ctx_new(p);
    certpin_curl *pinned = NULL;
    CURL *easy;
    certpin_status st;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    easy = curl_easy_init();
    st = certpin_curl_attach(easy, pin, &pinned, NULL);
    printf("certpin_curl_attach: %d\n", (int)st);
    curl_easy_cleanup(easy);
    certpin_curl_free(pinned);
    certpin_ctx_free(pin);
    certpin_policy_free(p);
    certpin_builder_free(b);
    curl_global_cleanup();
    return st == CERTPIN_OK ? 0 : 1;
}
