<?php
/**
 * Plugin Name: Boxoffice redirect
 * Description: Sends the VoordeMensen plugins' API calls to a Boxoffice server instead of api.voordemensen.nl.
 * Version:     1.0.0
 * Requires PHP: 7.4
 *
 * A must-use plugin: copy this file into wp-content/mu-plugins/ and name the Boxoffice
 * server in wp-config.php:
 *
 *     define( 'BOXOFFICE_URL', 'https://tickets.example.org' );
 *
 * (or set the environment variable BOXOFFICE_URL, or filter `boxoffice_redirect_base_url`).
 * Without a URL it does nothing.
 *
 * The VoordeMensen plugins write the API host into their code and call it through
 * WordPress's HTTP API (wp_remote_get / wp_remote_request). The `pre_http_request` filter
 * sees every such call before it leaves WordPress; a call to a VoordeMensen host is made to
 * Boxoffice instead, with the same method, headers, body and timeout, and its answer is
 * returned to the plugin as if the original host had given it. Other calls are untouched.
 *
 *   https://api.voordemensen.nl/v1/{client}/...      -> {BOXOFFICE_URL}/v1/{client}/...
 *   https://tickets.voordemensen.nl/api/{client}/... -> {BOXOFFICE_URL}/api/{client}/...
 *
 * (the ticket host's API: get-session, which the official plugin calls from PHP, and the
 * basket's cart).
 *
 * Scripts the plugins hand to the browser with the API host in their data (the agency
 * plugin's `ll_vdm.api.base_url`) get the Boxoffice URL in its place.
 *
 * Documentation: docs/public-api.md, section "Pointing a WordPress site at Boxoffice".
 */

namespace Boxoffice\Redirect;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The VoordeMensen URL prefixes this plugin redirects, each with its Boxoffice path.
 *
 * @return array<string, string>
 */
function prefixes(): array {
	return array(
		'api.voordemensen.nl/v1/'     => '/v1/',
		'tickets.voordemensen.nl/api/' => '/api/',
	);
}

/**
 * The Boxoffice base URL (scheme, host, optional port and path), without a trailing slash,
 * or null when none is configured.
 */
function base_url(): ?string {
	$url = defined( 'BOXOFFICE_URL' ) ? (string) constant( 'BOXOFFICE_URL' ) : (string) getenv( 'BOXOFFICE_URL' );
	$url = (string) apply_filters( 'boxoffice_redirect_base_url', $url );
	$url = rtrim( trim( $url ), '/' );
	if ( '' === $url || ! preg_match( '#^https?://[^/\s]+#i', $url ) ) {
		return null;
	}
	return $url;
}

/**
 * Where a request for $url goes instead, or null when it is not a VoordeMensen API call.
 */
function redirected_url( string $url ): ?string {
	$base = base_url();
	if ( null === $base ) {
		return null;
	}
	if ( ! preg_match( '#^https?://(.*)$#i', $url, $match ) ) {
		return null;
	}
	$rest = $match[1];
	foreach ( prefixes() as $prefix => $path ) {
		if ( 0 === strncasecmp( $rest, $prefix, strlen( $prefix ) ) ) {
			return $base . $path . substr( $rest, strlen( $prefix ) );
		}
	}
	return null;
}

/**
 * `pre_http_request`: make a VoordeMensen call to Boxoffice, and answer the plugin with it.
 *
 * @param false|array|\WP_Error $preempt What an earlier filter decided (false: nothing).
 * @param array                  $args    The request's arguments (method, headers, body, ...).
 * @param string                 $url     The URL the plugin asked for.
 * @return false|array|\WP_Error
 */
function redirect_request( $preempt, $args, $url ) {
	if ( false !== $preempt || ! is_string( $url ) ) {
		return $preempt;
	}
	$target = redirected_url( $url );
	if ( null === $target ) {
		return false;
	}
	// The same arguments, so that a safe request (wp_safe_remote_*) stays one.
	return wp_remote_request( $target, is_array( $args ) ? $args : array() );
}

add_filter( 'pre_http_request', __NAMESPACE__ . '\\redirect_request', 10, 3 );

/**
 * Rewrite the API host in the data scripts carry to the browser (wp_localize_script).
 */
function redirect_script_data(): void {
	$base = base_url();
	if ( null === $base || ! function_exists( 'wp_scripts' ) ) {
		return;
	}
	$replacements = array();
	foreach ( prefixes() as $prefix => $path ) {
		foreach ( array( 'https://', 'http://' ) as $scheme ) {
			$replacements[ $scheme . $prefix ] = $base . $path;
			// wp_json_encode escapes slashes: https:\/\/api.voordemensen.nl\/v1\/
			$replacements[ str_replace( '/', '\\/', $scheme . $prefix ) ] = str_replace( '/', '\\/', $base . $path );
		}
	}
	foreach ( wp_scripts()->registered as $script ) {
		if ( isset( $script->extra['data'] ) && is_string( $script->extra['data'] ) ) {
			$script->extra['data'] = strtr( $script->extra['data'], $replacements );
		}
	}
}

add_action( 'wp_print_scripts', __NAMESPACE__ . '\\redirect_script_data', 0 );
add_action( 'wp_print_footer_scripts', __NAMESPACE__ . '\\redirect_script_data', 0 );
