
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * autoscale_ui: a live page of the clusters, one HTML file compiled into
 * the module, that reads the JSON API from the browser.
 */


#ifndef _NGX_AUTOSCALE_UI_H_INCLUDED_
#define _NGX_AUTOSCALE_UI_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the longest api= path the directive takes */
#define NGX_AUTOSCALE_UI_API_MAX  256


extern ngx_module_t  ngx_http_autoscale_ui_module;


#endif /* _NGX_AUTOSCALE_UI_H_INCLUDED_ */
