<?php
/**
 * A real WordPress (Debian's package, installed into a fresh MariaDB database) with
 * integrations/wordpress/boxoffice-redirect.php as its must-use plugin. It makes the calls
 * the VoordeMensen plugins make, through WordPress's HTTP API, parses the answers as they
 * do, and prints what it found as one JSON object on the last line of stdout.
 *
 * Environment: WORDPRESS_DIR, WP_DB_NAME, WP_DB_HOST, WP_CONTENT_DIR, WP_MU_PLUGIN_DIR,
 * BOXOFFICE_URL (read by the plugin), VDM_CLIENT, VDM_EVENT_ID (a main event),
 * VDM_CART_ID (a public cart), VDM_TOKEN (a visitor's token), VDM_TIMEZONE.
 */

error_reporting( E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED );
ini_set( 'display_errors', 'stderr' );

$db_name = getenv( 'WP_DB_NAME' );
$db_host = getenv( 'WP_DB_HOST' ) ?: '127.0.0.1';
$admin   = new mysqli( $db_host, 'root', '' );
$admin->query( 'DROP DATABASE IF EXISTS `' . $admin->real_escape_string( $db_name ) . '`' );
$admin->query( 'CREATE DATABASE `' . $admin->real_escape_string( $db_name ) . '`' );

define( 'ABSPATH', rtrim( getenv( 'WORDPRESS_DIR' ), '/' ) . '/' );
define( 'DB_NAME', $db_name );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', $db_host );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
define( 'WP_CONTENT_DIR', getenv( 'WP_CONTENT_DIR' ) );
define( 'WPMU_PLUGIN_DIR', getenv( 'WP_MU_PLUGIN_DIR' ) );
define( 'WP_INSTALLING', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', false );
define( 'DISABLE_WP_CRON', true );
$table_prefix = 'wp_';
$_SERVER['HTTP_HOST']   = 'wordpress.test';
$_SERVER['SERVER_NAME'] = 'wordpress.test';
$_SERVER['REQUEST_URI'] = '/';

require ABSPATH . 'wp-settings.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
wp_install( 'Boxoffice test', 'admin', 'admin@example.org', false, '', wp_generate_password() );

$result = array(
	'wordpress' => get_bloginfo( 'version' ),
	'plugin'    => function_exists( 'Boxoffice\\Redirect\\redirected_url' ),
	'requested' => array(),
);

// Every request WordPress really made (after filters), with the answer's status.
add_action(
	'http_api_debug',
	function ( $response, $context, $class, $args, $url ) use ( &$result ) {
		$result['requested'][] = array(
			'url'    => $url,
			'method' => $args['method'],
			'status' => is_wp_error( $response ) ? $response->get_error_message() : wp_remote_retrieve_response_code( $response ),
		);
	},
	10,
	5
);

$client   = getenv( 'VDM_CLIENT' );
$timezone = new DateTimeZone( getenv( 'VDM_TIMEZONE' ) );

// The agency plugin (level-level/ll-voordemensen): wp_remote_request on its fixed base URL,
// json_decode to objects, keep main events with an event_id and sub_events.
$response = wp_remote_request(
	'https://api.voordemensen.nl/v1/' . rawurldecode( $client ) . '/events',
	array(
		'method'  => 'GET',
		'timeout' => 5,
	)
);
$data     = json_decode( wp_remote_retrieve_body( $response ) );
$events   = is_array( $data ) ? array_values(
	array_filter(
		$data,
		function ( $event ) {
			return isset( $event->event_id ) && ! empty( $event->sub_events );
		}
	)
) : array();

$result['agency'] = array(
	'status' => wp_remote_retrieve_response_code( $response ),
	'events' => array(),
);
foreach ( $events as $event ) {
	$parsed = array(
		'event_id'   => (string) $event->event_id,
		'event_name' => $event->event_name,
		'sub_events' => array(),
	);
	foreach ( $event->sub_events as $sub ) {
		$start    = DateTime::createFromFormat( 'Y-m-d H:i:s', $sub->event_date . ' ' . $sub->event_time, $timezone );
		$end      = DateTime::createFromFormat( 'Y-m-d H:i:s', $sub->event_date . ' ' . $sub->event_end, $timezone );
		$types    = wp_remote_request(
			'https://api.voordemensen.nl/v1/' . rawurldecode( $client ) . '/tickettypes/' . $sub->event_id,
			array(
				'method'  => 'GET',
				'timeout' => 5,
			)
		);
		$prices   = array();
		foreach ( (array) json_decode( wp_remote_retrieve_body( $types ) ) as $type ) {
			if ( isset( $type->discount_id ) ) {
				$prices[] = array(
					'discount_id'      => (string) $type->discount_id,
					'discount_name'    => $type->discount_name,
					'base_price'       => (float) $type->base_price,
					'discounted_price' => (float) $type->discounted_price,
				);
			}
		}
		$parsed['sub_events'][] = array(
			'event_id'     => (string) $sub->event_id,
			'status'       => $sub->event_status,
			'start'        => $start instanceof DateTime ? $start->getTimestamp() : null,
			'end'          => $end instanceof DateTime ? $end->getTimestamp() : null,
			'max_tickets'  => $sub->event_free,
			'ticket_types' => $prices,
		);
	}
	$result['agency']['events'][] = $parsed;
}

// The official plugin (VoordeMensen/wordpress-plugin): wp_remote_get of one main event,
// [0]->event_name, and the dates of the sub-events on sale as "d-m-Y - H:i".
$response = wp_remote_get( 'https://api.voordemensen.nl/v1/' . $client . '/events/' . getenv( 'VDM_EVENT_ID' ) );
$events   = json_decode( wp_remote_retrieve_body( $response ) );
$dates    = array();
if ( $events ) {
	foreach ( $events as $event ) {
		foreach ( $event->sub_events as $sub ) {
			if ( 'pub' !== $sub->event_status ) {
				continue;
			}
			$dates[] = ( new DateTime( $sub->event_date . ' ' . $sub->event_time ) )->format( 'd-m-Y - H:i' );
		}
	}
}
$result['official'] = array(
	'status'     => wp_remote_retrieve_response_code( $response ),
	'event_name' => $events ? $events[0]->event_name : null,
	'dates'      => $dates,
);

// The official plugin's session: get-session on the ticket host with the visitor's token
// (twice, as two page views of one visitor), read as the plugin reads it.
$sessions = array();
foreach ( array( 1, 2 ) as $view ) {
	$response   = wp_remote_get( 'https://tickets.voordemensen.nl/api/' . $client . '/get-session?token=' . getenv( 'VDM_TOKEN' ) );
	$data       = json_decode( wp_remote_retrieve_body( $response ), true );
	$sessions[] = isset( $data['session_id'] ) ? sanitize_text_field( $data['session_id'] ) : null;
}
$result['sessions'] = $sessions;

// The official plugin's basket counter: the cart on the ticket host, count - 1.
$response = wp_remote_get( 'https://tickets.voordemensen.nl/api/' . $client . '/cart/' . getenv( 'VDM_CART_ID' ) );
$cart     = json_decode( wp_remote_retrieve_body( $response ) );
$result['basket'] = array(
	'status'  => wp_remote_retrieve_response_code( $response ),
	'counter' => is_array( $cart ) ? count( $cart ) - 1 : 'n/a',
);

// Other hosts are left alone; the browser gets Boxoffice's URL in a script's data.
$result['untouched'] = Boxoffice\Redirect\redirected_url( 'https://example.org/v1/x/events' );
wp_register_script( 'll_vdm_main', 'https://wordpress.test/main.js', array(), '1', true );
wp_localize_script(
	'll_vdm_main',
	'll_vdm',
	array( 'api' => array( 'base_url' => 'https://api.voordemensen.nl/v1/' ) )
);
ob_start();
do_action( 'wp_print_footer_scripts' );
ob_end_clean();
$result['script_data'] = wp_scripts()->get_data( 'll_vdm_main', 'data' );

$admin->query( 'DROP DATABASE IF EXISTS `' . $admin->real_escape_string( $db_name ) . '`' );
echo "\n" . wp_json_encode( $result ) . "\n";
